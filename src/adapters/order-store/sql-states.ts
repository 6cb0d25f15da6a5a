/**
 * The order states as SQL literals, taken from core's lifecycle table (order-lifecycle.ts) so that no state is
 * spelled twice. Literals rather than bind parameters: the planner then matches the partial indexes
 * (`orders_one_live_per_buyer`, `orders_unpaid_by_deadline`), whose predicates name the same states.
 * The values are the table's constants, never a request's.
 */
import { INITIAL, LIVE, TIMEOUT } from '../../core/order-lifecycle.ts';
import type { OrderStatus } from '../../core/model.ts';

const literal = (status: OrderStatus) => `'${status}'`;
const list = (statuses: readonly OrderStatus[]) => `(${statuses.map(literal).join(', ')})`;

/** `status IN LIVE_STATES`: orders that hold a unit. */
export const LIVE_STATES = list(LIVE);
/** `status IN OVERDUE_STATES`: orders a pay timeout may close. */
export const OVERDUE_STATES = list(TIMEOUT.from);
/** The status a new order is inserted with. */
export const NEW_ORDER_STATE = literal(INITIAL);
