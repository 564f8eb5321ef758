import { PRELOAD_GLOBAL, type WorkbenchApi } from '../../../shared/api';
import { createWsApi } from './ws';

/**
 * The WorkbenchApi this window uses: Electron's preload bridge when present, otherwise browser
 * mode's WebSocket to the server that served this page.
 */
export function pickApi(onConnection?: (connected: boolean) => void): WorkbenchApi {
  const bridged = (window as unknown as Record<string, WorkbenchApi | undefined>)[PRELOAD_GLOBAL];
  if (bridged) return bridged;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  const url = `${scheme}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  return createWsApi({ url, onConnection });
}
