/** Domain values → the JSON shapes of docs/api.md (declared once in responses.ts). */
import type { AdminOrder, AuditRecord, Order, SeckillGood, SeckillResult, User } from '../../core/model.ts';
import type { AdminOrderJson, AuditEntryJson, OrderJson, SeckillGoodJson, SeckillResultJson, UserJson } from './responses.ts';

export const userJson = (u: User): UserJson => ({ id: u.id, phone: u.phone, nickname: u.nickname, role: u.role });

export const goodJson = (g: SeckillGood): SeckillGoodJson => ({
  id: g.id,
  name: g.name,
  title: g.title,
  imageUrl: g.imageUrl,
  price: g.price,
  seckillPrice: g.seckillPrice,
  stock: g.stock,
  initialStock: g.initialStock,
  startAt: g.startAt.toISOString(),
  endAt: g.endAt.toISOString(),
  paused: g.paused,
});

export const orderJson = (o: Order): OrderJson => ({
  orderNo: o.orderNo,
  userId: o.userId,
  seckillGoodId: o.seckillGoodId,
  goodName: o.goodName,
  seckillPrice: o.seckillPrice,
  status: o.status,
  createdAt: o.createdAt.toISOString(),
  payDeadline: o.payDeadline.toISOString(),
  ...(o.paidAt ? { paidAt: o.paidAt.toISOString() } : {}),
  ...(o.closedAt ? { closedAt: o.closedAt.toISOString() } : {}),
});

export const resultJson = (r: Pick<SeckillResult, 'uuid' | 'orderNo' | 'reason'> & { status: SeckillResult['status'] | 'QUEUED' }): SeckillResultJson => ({
  uuid: r.uuid,
  status: r.status,
  ...(r.orderNo ? { orderNo: r.orderNo } : {}),
  ...(r.reason ? { reason: r.reason } : {}),
});

export const adminOrderJson = (o: AdminOrder): AdminOrderJson => ({ ...orderJson(o), phone: o.phone });

export const auditEntryJson = (a: AuditRecord): AuditEntryJson => ({
  at: a.at.toISOString(),
  adminId: a.adminId,
  action: a.action,
  target: a.target,
  details: a.details,
  address: a.address,
});
