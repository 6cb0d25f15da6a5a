/**
 * `GET /docs`: an interactive page of the api (Swagger UI, @fastify/swagger-ui) drawn from the very
 * document `GET /api/openapi.json` serves. The page reads it at `/docs/json`; "Try it out" calls the api on
 * this origin.
 *
 * Its own Content-Security-Policy, in a scope of its own: Swagger UI's scripts are files of this origin,
 * but the page sets inline styles and draws its icons from data: URLs. The shop's stricter policy
 * (web.routes.ts) is untouched, and the SPA fallback never sees /docs (a static route beats `/*`).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { pageSecurityHeaders } from './page-security.ts';

export const DOCS_PREFIX = '/docs';

export async function registerDocsRoutes(app: FastifyInstance, document: object): Promise<void> {
  await app.register(async (scope) => {
    // Swagger UI draws its icons from data: URLs.
    await scope.register(helmet, pageSecurityHeaders({ imgSrc: ['data:'], connectSrc: [] }));
    await scope.register(swagger, { mode: 'static', specification: { document: document as never } });
    await scope.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      // No call to an outside validator service: the page stays on this origin.
      validatorUrl: false,
      uiConfig: { deepLinking: true, displayRequestDuration: true, tryItOutEnabled: false },
      theme: { title: 'seckill api' },
    });
  });
}
