/** Domain values → the JSON shapes of docs/api.md. */
import type { Order, SeckillGood, SeckillResult, User } from '../../core/model.ts';

export const userJson = (u: User) => ({ id: u.id, phone: u.phone, nickname: u.nickname, role: u.role });

export const goodJson = (g: SeckillGood) => ({
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
});

export const orderJson = (o: Order) => ({
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

export const resultJson = (r: Pick<SeckillResult, 'uuid' | 'orderNo' | 'reason'> & { status: SeckillResult['status'] | 'QUEUED' }) => ({
  uuid: r.uuid,
  status: r.status,
  ...(r.orderNo ? { orderNo: r.orderNo } : {}),
  ...(r.reason ? { reason: r.reason } : {}),
});
