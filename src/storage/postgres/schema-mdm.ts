/** PostgreSQL schema (migration 1 part): enrollments, push info, certificate bindings, bootstrap tokens, secrets bookkeeping. Owner: area A. */

/** The DDL of this area, in migration 1. */
export const MDM_SCHEMA = '';
