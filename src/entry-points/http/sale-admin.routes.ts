/**
 * The admin's hand on a running sale (contract v1.2): edit, pause, resume, restock. Each handler checks the
 * admin, validates, calls one use case, presents; and names what was done in the audit log's terms.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { editSale, restockSale, setSalePaused, type SaleOperationsDeps } from '../../core/sale-operations.ts';
import type { TokenClaims } from '../../core/credentials.ts';
import type { AuditAction } from '../../core/model.ts';
import type { AuditLog } from '../../core/ports.ts';
import { requireAdmin, type Authenticate } from './auth.ts';
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
  const admin = async (req: FastifyRequest): Promise<TokenClaims> => {
    const claims = await deps.authenticate(req);
    requireAdmin(claims);
    return claims;
  };
  const done = (req: FastifyRequest, claims: TokenClaims, action: AuditAction, id: number, details: Record<string, unknown>) =>
    deps.audit.record({ adminId: claims.userId, action, target: String(id), details, address: req.ip });

  app.patch('/api/admin/seckill/goods/:id', async (req) => {
    const claims = await admin(req);
    const { id } = parseInput(IdParams, req.params);
    const edit = parseInput(EditGoodBody, req.body);
    const good = await editSale(deps.saleOperations, id, edit);
    await done(req, claims, 'sale.edit', id, { ...(req.body as Record<string, unknown>) });
    return goodJson(good);
  });

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/api/admin/seckill/goods/:id/${verb}`, async (req) => {
      const claims = await admin(req);
      const { id } = parseInput(IdParams, req.params);
      const good = await setSalePaused(deps.saleOperations, id, paused);
      await done(req, claims, paused ? 'sale.pause' : 'sale.resume', id, {});
      return goodJson(good);
    });
  }

  app.post('/api/admin/seckill/goods/:id/restock', async (req) => {
    const claims = await admin(req);
    const { id } = parseInput(IdParams, req.params);
    const { units } = parseInput(RestockBody, req.body);
    const stats = await restockSale(deps.saleOperations, id, units);
    await done(req, claims, 'sale.restock', id, { units });
    return { ...stats, requests: deps.requestsOf(id) } satisfies SaleStatsJson;
  });
}
