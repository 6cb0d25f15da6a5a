/**
 * The sale's domain: what the use cases, the ports and the entry points speak of. Types only, no behaviour
 * (the order states' table is in order-lifecycle.ts).
 */

/** A request to turn one reserved unit into an order. Published by the api, consumed by the worker. */
export interface OrderMessage {
  uuid: string;
  userId: number;
  seckillGoodId: number;
  /** Epoch ms at which the api reserved the unit. */
  reservedAt: number;
}

export type ResultStatus = 'SUCCESS' | 'FAIL';

/** Why a queued request did not become an order. */
export type FailReason =
  | 'SOLD_OUT'
  | 'DUPLICATE_ORDER'
  | 'UUID_CONFLICT'
  | 'NOT_FOUND'
  /** The reservation was never turned into an order (its request was lost); the reconciler gave it back. */
  | 'EXPIRED';

/** The outcome of one queued request (one uuid). */
export interface SeckillResult {
  uuid: string;
  userId: number;
  seckillGoodId: number;
  status: ResultStatus;
  orderNo?: string;
  reason?: FailReason;
}

export interface Alert {
  kind: string;
  message: string;
  seckillGoodId?: number;
  uuid?: string;
  orderNo?: string;
  details?: Record<string, unknown>;
  at: string;
}

export type OrderStatus = 'UNPAID' | 'PAID' | 'CANCELLED' | 'TIMEOUT' | 'REFUNDED';

export interface SeckillGood {
  id: number;
  name: string;
  title: string;
  imageUrl: string;
  /** cents */
  price: number;
  /** cents */
  seckillPrice: number;
  initialStock: number;
  /** The database's remaining stock. */
  stock: number;
  startAt: Date;
  endAt: Date;
  /** Paused by an admin: buyers hear PAUSED; reservations already accepted still become orders. */
  paused: boolean;
  /** Grows with every edit, pause and resume: of two views of one good, the higher revision is the newer. */
  revision: number;
}

export type NewSeckillGood = Omit<SeckillGood, 'id' | 'stock' | 'initialStock' | 'paused' | 'revision'> & { stock: number };

/** What an admin may change of a sale (never its stock: that is a restock). */
export type SaleEdit = Partial<Pick<SeckillGood, 'name' | 'title' | 'imageUrl' | 'price' | 'seckillPrice' | 'startAt' | 'endAt'>>;

export interface Order {
  orderNo: string;
  uuid: string;
  userId: number;
  seckillGoodId: number;
  goodName: string;
  seckillPrice: number;
  status: OrderStatus;
  createdAt: Date;
  payDeadline: Date;
  paidAt?: Date;
  closedAt?: Date;
}

export interface GoodStats {
  stock: number;
  orders: Record<OrderStatus, number>;
}

/** One conditional state change of orders (see core/order-lifecycle.ts). */
export interface Transition {
  name: 'pay' | 'cancel' | 'timeout' | 'refund' | 'admin-refund';
  from: readonly OrderStatus[];
  to: OrderStatus;
  /** The change gives the order's unit back to the database stock (in the same transaction). */
  returnsStock: boolean;
  /** Which of the order's times the change sets (to the transition's now). */
  stamps: 'paidAt' | 'closedAt' | null;
}

export interface PaymentRecord {
  orderNo: string;
  kind: 'CHARGE' | 'REFUND';
  amount: number;
  providerRef: string;
  /** Unique: recording the same payment twice keeps one row. */
  idempotencyKey: string;
}

export interface PaymentIntent {
  orderNo: string;
  amount: number;
  idempotencyKey: string;
}

/** An intent as the reconciler reads it: its latest attempt, and the expiry of that attempt's charge. */
export interface OpenPaymentIntent extends PaymentIntent {
  attempt: number;
  chargeBy: Date;
}

export type Role = 'user' | 'admin';

/** What an admin did, named `<thing>.<verb>` (see docs/operations-orders.md). */
export type AuditAction =
  | 'sale.create'
  | 'sale.edit'
  | 'sale.pause'
  | 'sale.resume'
  | 'sale.restock'
  | 'order.refund'
  | 'dead-orders.replay';

/** One admin action to record: who, what, on what, with which figures, from which client address. */
export interface AuditEntry {
  adminId: number;
  action: AuditAction;
  /** The id of what was acted on (a good's id, an order number) or the queue's name. */
  target: string;
  details: Record<string, unknown>;
  address: string;
}

/** A recorded admin action: the entry, its position in the log and the moment the database wrote it. */
export interface AuditRecord extends AuditEntry {
  id: number;
  at: Date;
}

/** Who does an admin action, and from where (the client address the api saw). */
export interface AdminActor {
  adminId: number;
  address: string;
}

/** An order as customer service sees it: with the buyer's phone. */
export type AdminOrder = Order & { phone: string };

/** Filters of the admin order search; every given one must match. */
export interface OrderFilter {
  phone?: string;
  orderNo?: string;
  seckillGoodId?: number;
  status?: OrderStatus;
}

/**
 * An order's place in the newest-first order (createdAt, orderNo). `createdAt` is the database's own text of
 * the time, to the microsecond: a JS Date would round it and a page boundary could skip or repeat an order.
 */
export interface OrderKey {
  createdAt: string;
  orderNo: string;
}

export interface User {
  id: number;
  phone: string;
  nickname: string;
  role: Role;
  /** Raised by a password change, a role change and a logout: tokens carrying an older version are refused. */
  tokenVersion: number;
}

