/**
 * The admin's hand on a running sale (contract v1.2): edit, pause, resume, restock. Each handler checks the
 * admin, validates, calls one use case, presents; and names what was done in the audit log's terms.
 */
import type { FastifyInstance } from 'fastify';
import { editSale, restockSale, setSalePaused, type SaleOperationsDeps } from '../../core/sale-operations.ts';
import type { AdminActor, AuditAction } from '../../core/model.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import { adminActor } from './admin.routes.ts';
import type { Authenticate } from './auth.ts';
import { parseInput } from './http-errors.ts';
import { goodJson } from './presenters.ts';
import type { SaleStatsJson } from './responses.ts';
import { EditGoodBody, IdParams, RestockBody } from './schemas.ts';

export interface SaleAdminDeps {
  authenticate: Authenticate;
  saleOperations: SaleOperationsDeps;
  /** Every action that succeeded is recorded right after it, before the admin hears of it. */
  audit: Pick<AuditLog, 'record'>;
  /** Buy requests for a good seen by this api process (the stats' `requests`). */
  requestsOf: (seckillGoodId: number) => number;
}

export function registerSaleAdminRoutes(app: FastifyInstance, deps: SaleAdminDeps): void {
  const done = (by: AdminActor, action: AuditAction, id: number, details: Record<string, unknown>) =>
    deps.audit.record({ ...by, action, target: String(id), details });

  app.patch('/api/admin/seckill/goods/:id', async (req) => {
    const by = await adminActor(deps.authenticate, req);
    const { id } = parseInput(IdParams, req.params);
    const edit = parseInput(EditGoodBody, req.body);
    const good = await editSale(deps.saleOperations, id, edit);
    await done(by, 'sale.edit', id, { ...(req.body as Record<string, unknown>) });
    return goodJson(good);
  });

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/api/admin/seckill/goods/:id/${verb}`, async (req) => {
      const by = await adminActor(deps.authenticate, req);
      const { id } = parseInput(IdParams, req.params);
      const good = await setSalePaused(deps.saleOperations, id, paused);
      await done(by, paused ? 'sale.pause' : 'sale.resume', id, {});
      return goodJson(good);
    });
  }

  app.post('/api/admin/seckill/goods/:id/restock', async (req) => {
    const by = await adminActor(deps.authenticate, req);
    const { id } = parseInput(IdParams, req.params);
    const { units } = parseInput(RestockBody, req.body);
    const stats = await restockSale(deps.saleOperations, id, units);
    await done(by, 'sale.restock', id, { units });
    return { ...stats, requests: deps.requestsOf(id) } satisfies SaleStatsJson;
  });
}
