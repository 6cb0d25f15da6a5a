/**
 * The front door's baseline: a fastify hello-world in its own process, like the api. It takes the very
 * requests the burst sends (POST /api/seckill/orders, a bearer token, a JSON body fastify parses) and
 * answers a constant. Prints a banner line the harness waits for.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
app.post('/api/seckill/orders', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`hello ready http://127.0.0.1:${port}\n`);
process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
