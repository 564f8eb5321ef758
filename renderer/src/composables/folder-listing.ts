import { onMounted, ref } from 'vue';
import type { FolderListing } from '../../../shared/api';
import { api } from '../api/current';

/**
 * One folder of the host's roots at a time, as the folder and weights-file browsers walk them:
 * the listing shown, the error of the last open, and `open(path)` (no path: the roots). Opens the
 * roots when the component mounts.
 */
export function useFolderListing() {
  const listing = ref<FolderListing | null>(null);
  const error = ref<string | null>(null);
  async function open(path?: string): Promise<void> {
    error.value = null;
    try {
      listing.value = await api().listFolder({ path });
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    }
  }
  onMounted(() => open());
  return { listing, error, open };
}
