/**
 * Admin routes for customer service and finance (since v1.2): the order search, refunds, a sale's orders as
 * CSV, and the audit log. Each handler: authenticate as an admin, validate, call one use case, present.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refundOrder, saleOrderPages, searchOrders, type RefundOrderDeps } from '../../core/admin-orders.ts';
import { listAudit } from '../../core/audit.ts';
import type { AdminActor } from '../../core/model.ts';
import type { AuditLog } from '../../core/ports/audit-log.ts';
import type { OrderSearch } from '../../core/ports/order-store.ts';
import { requireAdmin, type Authenticate } from './auth.ts';
import { parseInput } from './http-errors.ts';
import { ordersCsv } from './orders-csv.ts';
import { adminOrderJson, auditEntryJson, orderJson } from './presenters.ts';
import type { AdminOrderPageJson, AuditPageJson } from './responses.ts';
import { AdminOrdersQuery, AuditQuery, IdParams, OrderNoParams } from './schemas.ts';

export interface AdminRouteDeps {
  authenticate: Authenticate;
  search: OrderSearch;
  audit: AuditLog;
  refund: RefundOrderDeps;
}

/** The admin behind a request, and the address it came from (req.ip: X-Forwarded-For only from trusted proxies). */
export async function adminActor(authenticate: Authenticate, req: FastifyRequest): Promise<AdminActor> {
  const claims = await authenticate(req);
  requireAdmin(claims);
  return { adminId: claims.userId, address: req.ip };
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  app.get('/api/admin/orders', async (req) => {
    await adminActor(deps.authenticate, req);
    const { cursor, limit, ...filter } = parseInput(AdminOrdersQuery, req.query);
    const page = await searchOrders(deps, filter, { ...(cursor !== undefined ? { cursor } : {}), limit });
    return { items: page.items.map(adminOrderJson), nextCursor: page.nextCursor } satisfies AdminOrderPageJson;
  });

  app.post('/api/admin/orders/:orderNo/refund', async (req) => {
    const by = await adminActor(deps.authenticate, req);
    const { orderNo } = parseInput(OrderNoParams, req.params);
    return orderJson(await refundOrder(deps.refund, { orderNo, by }));
  });

  app.get('/api/admin/seckill/goods/:id/orders.csv', async (req, reply) => {
    await adminActor(deps.authenticate, req);
    const { id } = parseInput(IdParams, req.params);
    const pages = await saleOrderPages({ search: deps.search, store: deps.refund.store }, id);
    reply.header('Content-Type', 'text/csv; charset=utf-8');
    reply.header('Content-Disposition', `attachment; filename="sale-${id}-orders.csv"`);
    reply.header('Cache-Control', 'no-store');
    // Streamed: each page is written as it is read. A database failure part-way cuts the response short (the
    // status is already sent), which a client sees as a broken download rather than a short file.
    return reply.send(Readable.from(ordersCsv(pages), { objectMode: false }));
  });

  app.get('/api/admin/audit', async (req) => {
    await adminActor(deps.authenticate, req);
    const { cursor, limit } = parseInput(AuditQuery, req.query);
    const page = await listAudit(deps, { ...(cursor !== undefined ? { cursor } : {}), limit });
    return { items: page.items.map(auditEntryJson), nextCursor: page.nextCursor } satisfies AuditPageJson;
  });
}
