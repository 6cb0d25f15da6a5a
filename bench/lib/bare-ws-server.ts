/**
 * The result push's baseline: a bare `ws` server in its own process that accepts every socket and holds it
 * (no token, no lookup, nothing sent). Prints a banner line the harness waits for.
 */
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
wss.on('connection', (socket) => socket.on('error', () => undefined));
wss.once('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`bare ws ready ws://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  wss.close(() => process.exit(0));
});
