import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { wsCall } from '../../support/faults';
import { ROOT } from '../../support/cli-process';
import { data, sb, shapes } from './sandbox';

/** Browser mode: npm start -- --browser, and serve. */
export function serveCommands(): void {
  it('npm start -- --browser --root DIR serves browser mode with those roots; serve prints a URL with a token, serves the UI and the run store, refuses requests without the token, stops on Ctrl-C', async () => {
    // npm start builds the renderer when it is out of date; serve then finds it built (one build, not two racing).
    const rootDir = path.join(sb.work, 'datasets');
    fs.mkdirSync(rootDir);
    const app = sb.start(['start', '--', '--browser', '--root', rootDir], { program: 'npm', cwd: ROOT, detached: true, timeoutMs: 240_000 });
    const [appUrl] = await app.waitFor(/https?:\/\/\S+/, { timeoutMs: 200_000 });
    const appPage = await fetch(appUrl);
    expect(appPage.status).toBe(200);
    expect(await appPage.text()).toMatch(/<div id="app"/);
    const appAt = new URL(appUrl);
    const info = await wsCall({ port: Number(appAt.port), token: appAt.searchParams.get('token')! }, 'app:info', {});
    expect(info.value).toMatchObject({ mode: 'browser', roots: [fs.realpathSync(rootDir)], runsDir: sb.runs });
    await app.stop('SIGINT');

    const server = sb.start(['serve', '--port', '0', '--host', '127.0.0.1', '--root', data, '--runs', sb.runs, '--no-open'], { timeoutMs: 200_000 });
    const [, url] = await server.waitFor(/^DenseNet Workbench: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m, { timeoutMs: 180_000 });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app"/);
    const at = new URL(url);
    expect((await fetch(`http://127.0.0.1:${at.port}/`)).status).toBe(401);
    const auth = { port: Number(at.port), token: at.searchParams.get('token')! };
    const runs = await wsCall(auth, 'run:list', {});
    expect((runs.value as { id: string }[]).map((r) => r.id)).toContain(shapes.id);
    const scan = await wsCall(auth, 'dataset:scan', { dataset: { kind: 'folder', path: data }, thumbnailsPerClass: 0 });
    // The same files as `scan` and training: the truncated JPEG is skipped here too.
    expect(scan.value).toMatchObject({ counts: [9, 9, 9], verified: true, modes: { gray: 0, color: 27 } });
    const r = await server.stop('SIGINT');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/internal error|Hi, looks like/);
  });
}
