import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { cookieName, hostAllowed, isLoopback, newToken, originAllowed, tokenOf } from './auth';
import { DOWNLOAD_PREFIX, sendDownload } from './downloads';
import { securityHeaders, sendStatic } from './static-files';
import { attachSocket, type ApiHost } from './ws-endpoint';

/**
 * Browser mode's server: the built renderer over HTTP and the WorkbenchApi over one WebSocket
 * (`/ws`), both behind the access token (./auth).
 */
export interface ServerOptions {
  host: ApiHost;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** Default 127.0.0.1: only this machine can connect unless the user says otherwise. */
  bind?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Default: a fresh random token. */
  token?: string;
  /** Largest WebSocket message accepted, in bytes (default 1 MiB); larger ones close the socket (1009). */
  maxPayload?: number;
  /** The run store whose files `/download/…` serves (./downloads); no downloads without it. */
  runsDir?: string;
}

export interface RunningServer {
  /** The URL to open, with the token. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const WS_PATH = '/ws';

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const bind = options.bind ?? '127.0.0.1';
  const token = options.token ?? newToken();
  const loopback = isLoopback(bind);
  const staticDir = options.staticDir.replace(/[\\/]+$/, '');
  let port = options.port ?? 0;

  const deny = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    securityHeaders(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'Only GET is served.');
    if (!hostAllowed(req.headers.host, loopback)) return deny(res, 403, 'This server answers only to localhost names.');
    const how = tokenOf(req, token, port);
    if (how === null) {
      return deny(res, 401, 'This workbench needs its access token: open the URL that `densenet-workbench serve` printed.');
    }
    if (how === 'query') {
      res.setHeader('Set-Cookie', `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const pathname = url.pathname;
    if (options.runsDir && pathname.startsWith(DOWNLOAD_PREFIX)) {
      void sendDownload(options.runsDir, url, res).catch(() => {
        if (!res.headersSent) deny(res, 500, 'Could not read the file.');
        else res.destroy();
      });
      return;
    }
    void sendStatic(staticDir, pathname, res).catch(() => {
      if (!res.headersSent) deny(res, 500, 'Could not read the file.');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const pathname = new URL(req.url ?? '/', 'http://placeholder').pathname;
    if (pathname !== WS_PATH) return refuse(404, 'Not Found');
    if (!hostAllowed(req.headers.host, loopback)) return refuse(403, 'Forbidden');
    if (!originAllowed(req)) return refuse(403, 'Forbidden');
    if (tokenOf(req, token, port) === null) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => attachSocket(ws, options.host));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = bind.includes(':') ? `[${bind}]` : bind === '0.0.0.0' ? '127.0.0.1' : bind;

  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
