/** PostgreSQL adapter: the profile library: profiles and sealed versions. Owner: area D (stub until written). */
import type { ProfileLibraryStore } from '../ports.js';
import type { PgContext } from './db.js';

/** The {@link ProfileLibraryStore} on a context. */
export function pgProfileLibrary(ctx: PgContext): ProfileLibraryStore {
  void ctx;
  return {} as ProfileLibraryStore;
}
