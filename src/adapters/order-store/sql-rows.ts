/** snake_case rows of the SQL stores → the camelCase types of the ports. */
import type { FailReason, Order, OrderStatus, ResultStatus, SeckillGood, SeckillResult } from '../../core/model.ts';

export interface GoodRow {
  id: number;
  name: string;
  title: string;
  image_url: string;
  price_cents: number;
  seckill_price_cents: number;
  initial_stock: number;
  stock: number;
  start_at: Date;
  end_at: Date;
  paused: boolean;
  revision: number;
}

export const GOOD_COLUMNS =
  'id, name, title, image_url, price_cents, seckill_price_cents, initial_stock, stock, start_at, end_at, paused, revision';

export function goodFromRow(row: GoodRow): SeckillGood {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    imageUrl: row.image_url,
    price: row.price_cents,
    seckillPrice: row.seckill_price_cents,
    initialStock: row.initial_stock,
    stock: row.stock,
    startAt: row.start_at,
    endAt: row.end_at,
    paused: row.paused,
    revision: row.revision,
  };
}

export interface OrderRow {
  order_no: string;
  uuid: string;
  user_id: number;
  seckill_good_id: number;
  good_name: string;
  seckill_price_cents: number;
  status: OrderStatus;
  created_at: Date;
  pay_deadline: Date;
  paid_at: Date | null;
  closed_at: Date | null;
}

/** Orders with the name of their good; append WHERE / ORDER BY. */
export const SELECT_ORDERS = `
  SELECT o.order_no, o.uuid, o.user_id, o.seckill_good_id, g.name AS good_name, o.seckill_price_cents,
         o.status, o.created_at, o.pay_deadline, o.paid_at, o.closed_at
    FROM orders o
    JOIN seckill_goods g ON g.id = o.seckill_good_id`;

export function orderFromRow(row: OrderRow): Order {
  return {
    orderNo: row.order_no,
    uuid: row.uuid,
    userId: row.user_id,
    seckillGoodId: row.seckill_good_id,
    goodName: row.good_name,
    seckillPrice: row.seckill_price_cents,
    status: row.status,
    createdAt: row.created_at,
    payDeadline: row.pay_deadline,
    ...(row.paid_at ? { paidAt: row.paid_at } : {}),
    ...(row.closed_at ? { closedAt: row.closed_at } : {}),
  };
}

export interface ResultRow {
  uuid: string;
  user_id: number;
  seckill_good_id: number;
  status: ResultStatus;
  order_no: string | null;
  reason: FailReason | null;
}

export const RESULT_COLUMNS = 'uuid, user_id, seckill_good_id, status, order_no, reason';

export function resultFromRow(row: ResultRow): SeckillResult {
  return {
    uuid: row.uuid,
    userId: row.user_id,
    seckillGoodId: row.seckill_good_id,
    status: row.status,
    ...(row.order_no !== null ? { orderNo: row.order_no } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
  };
}
