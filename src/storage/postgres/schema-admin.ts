/** PostgreSQL schema (migration 1 part): CA records, challenges, API keys, audit, links, meta, web sessions, credentials. Owner: area C. */

/** The DDL of this area, in migration 1. */
export const ADMIN_SCHEMA = '';
