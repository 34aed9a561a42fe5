/** The daemon's name for a page of an admin list (the storage ports' `Page`). */
import type { Page } from '../storage/ports.js';

/** A page of an admin list; `nextCursor` is absent on the last page. */
export type AdminPage<T> = Page<T>;
