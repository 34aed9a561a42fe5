/** PostgreSQL schema (migration 1 part): policies, assignments, group default policies, device profiles, reconcile records. Owner: area E. */

/** The DDL of this area, in migration 1. */
export const POLICIES_SCHEMA = '';
