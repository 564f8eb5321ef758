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
}

/** Navigation, connection state and the error banners. */
export const useAppStore = defineStore('app', () => {
  const view = ref<ViewName>('new');
  const info = ref<AppInfo | null>(null);
  const connected = ref(true);
  const banners = ref<Banner[]>([]);
  const exportOpen = ref(false);
  let nextId = 1;

  function go(name: ViewName) {
    view.value = name;
  }

  function report(err: unknown, hint?: string) {
    const message = err instanceof Error ? err.message : String(err);
    const user = (err as { user?: boolean })?.user;
    banners.value.push({
      id: nextId++,
      level: 'error',
      message,
      hint: hint ?? (user ? undefined : 'If this keeps happening, check the terminal running the workbench for details.'),
    });
    if (banners.value.length > 4) banners.value.shift();
  }

  function notify(message: string, level: Banner['level'] = 'info', hint?: string) {
    banners.value.push({ id: nextId++, level, message, hint });
    if (banners.value.length > 4) banners.value.shift();
  }

  function dismiss(id: number) {
    banners.value = banners.value.filter((b) => b.id !== id);
  }

  async function load() {
    try {
      info.value = await api().appInfo();
    } catch (err) {
      report(err, 'The workbench host did not answer; is `densenet-workbench serve` still running?');
    }
  }

  return { view, info, connected, banners, exportOpen, go, report, notify, dismiss, load };
});
