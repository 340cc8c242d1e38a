import type { AdminLibrary } from '../../library/index.ts';
import type { ApiRoute } from '../route.ts';
import { adminKeyRoutes } from './admin-keys.ts';
import { auditRoutes } from './audit.ts';
import { clientRoutes } from './clients.ts';
import { connectionRoutes } from './connection.ts';
import { executionRoutes } from './executions.ts';
import { importRoutes } from './import.ts';
import { mailRoutes } from './mail.ts';
import { migrationRoutes } from './migration.ts';
import { scriptRoutes } from './scripts.ts';
import { sweepRoutes } from './sweep.ts';
import { userSessionRoutes } from './user-sessions.ts';
import { userRoutes } from './users.ts';

/** Every admin API operation except the OpenAPI document, which is generated from this list. */
export function apiRoutes(library: AdminLibrary): ApiRoute[] {
  return [
    ...importRoutes(library),
    ...userRoutes(library),
    ...userSessionRoutes(library),
    ...connectionRoutes(library),
    ...scriptRoutes(library),
    ...executionRoutes(library),
    ...migrationRoutes(library),
    ...sweepRoutes(library),
    ...mailRoutes(library),
    ...clientRoutes(library),
    ...adminKeyRoutes(library),
    ...auditRoutes(library),
  ];
}
