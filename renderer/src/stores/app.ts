import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo } from '../../../shared/api';
import { api } from '../api/current';

export type ViewName = 'new' | 'dashboard' | 'architecture' | 'contributions' | 'evaluation' | 'runs';

export const VIEWS: { name: ViewName; label: string; key: string }[] = [
  { name: 'new', label: 'New run', key: '1' },
  { name: 'dashboard', label: 'Dashboard', key: '2' },
  { name: 'architecture', label: 'Architecture', key: '3' },
  { name: 'contributions', label: 'Contributions', key: '4' },
  { name: 'evaluation', label: 'Evaluation', key: '5' },
  { name: 'runs', label: 'Runs', key: '6' },
];

export interface Banner {
  id: number;
  level: 'error' | 'warn' | 'info';
  message: string;
  /** What the user can do about it. */
  hint?: string;
  /**
   * Banners with a key stand for one thing in progress (a checkpoint request, an inspection):
   * a newer banner with the same key replaces it instead of piling up beside it.
   */
  key?: string;
  /** True while the thing it announces is still under way. */
  pending?: boolean;
}

/** How long banners stay: info and resolved requests go by themselves; errors stay until dismissed. */
export const BANNER_TTL_MS = { info: 6_000, warn: 12_000, pending: 120_000 } as const;

/**
 * Navigation, connection state and the banners. Banners float over the content (they never push it
 * down under the pointer), replace each other by key, and expire unless they are errors.
 */
export const useAppStore = defineStore('app', () => {
  const view = ref<ViewName>('new');
  const info = ref<AppInfo | null>(null);
  const connected = ref(true);
  const banners = ref<Banner[]>([]);
  const exportOpen = ref(false);
  let nextId = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();

  function push(b: Omit<Banner, 'id'>, ttlMs: number | null) {
    const id = nextId++;
    const next = banners.value.filter((x) => b.key === undefined || x.key !== b.key);
    for (const old of banners.value) if (!next.includes(old)) clearTimer(old.id);
    next.push({ ...b, id });
    while (next.length > 4) clearTimer(next.shift()!.id);
    banners.value = next;
    if (ttlMs !== null) timers.set(id, setTimeout(() => dismiss(id), ttlMs));
    return id;
  }
  function clearTimer(id: number) {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
  }

  function go(name: ViewName) {
    view.value = name;
  }

  function report(err: unknown, hint?: string) {
    const message = err instanceof Error ? err.message : String(err);
    const user = (err as { user?: boolean })?.user;
    push({ level: 'error', message, hint: hint ?? (user ? undefined : 'If this keeps happening, check the terminal running the workbench for details.') }, null);
  }

  /** A banner; info and warnings expire, errors stay. With a key, it replaces that key's banner. */
  function notify(message: string, level: Banner['level'] = 'info', hint?: string, key?: string) {
    push({ level, message, hint, key }, level === 'error' ? null : BANNER_TTL_MS[level]);
  }

  /** A request under way (`key` names it): shown until `settle(key, …)`, or for two minutes at most. */
  function pending(key: string, message: string, hint?: string) {
    push({ level: 'info', message, hint, key, pending: true }, BANNER_TTL_MS.pending);
  }

  /** The request `key` is over: its banner says how, then goes (errors stay). No-op when nothing is pending under `key`. */
  function settle(key: string, message: string, level: Banner['level'] = 'info', hint?: string) {
    if (!banners.value.some((b) => b.key === key && b.pending)) return;
    notify(message, level, hint, key);
  }

  function dismiss(id: number) {
    clearTimer(id);
    banners.value = banners.value.filter((b) => b.id !== id);
  }

  async function load() {
    try {
      info.value = await api().appInfo();
    } catch (err) {
      report(err, 'The workbench host did not answer; is `densenet-workbench serve` still running?');
    }
  }

  return { view, info, connected, banners, exportOpen, go, report, notify, pending, settle, dismiss, load };
});
