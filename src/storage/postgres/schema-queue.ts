/** PostgreSQL schema (migration 1 part): commands, command targets, outbox. Owner: area B. */

/** The DDL of this area, in migration 1. */
export const QUEUE_SCHEMA = '';
