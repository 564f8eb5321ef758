/**
 * Drag and drop of a dataset folder onto the window. Since Electron 32 a dropped File has no
 * `.path`; only the preload can turn it into one, with webUtils.getPathForFile. The path goes to
 * the main process on a private channel, which checks it is a directory and tells the UI
 * (a `datasetChosen` event). The page never sees a path it could not have picked itself.
 */
interface DataTransferLike {
  types: readonly string[] | ArrayLike<string>;
  files: ArrayLike<unknown>;
  dropEffect?: string;
}
export interface DragEventLike {
  defaultPrevented: boolean;
  dataTransfer: DataTransferLike | null;
  preventDefault(): void;
}
export interface DropTarget {
  addEventListener(type: 'dragover' | 'drop', listener: (event: DragEventLike) => void): void;
}

export function installFolderDrop(target: DropTarget, getPathForFile: (file: unknown) => string, send: (path: string) => void): void {
  const carriesFiles = (e: DragEventLike) => !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
  target.addEventListener('dragover', (e) => {
    if (e.defaultPrevented || !carriesFiles(e)) return;
    // Without this the drop is refused (or, with navigateOnDragDrop, would navigate).
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  target.addEventListener('drop', (e) => {
    // A drop zone of the page that handled the drop itself wins.
    if (e.defaultPrevented || !carriesFiles(e)) return;
    e.preventDefault();
    const first = e.dataTransfer?.files[0];
    if (first === undefined) return;
    const path = getPathForFile(first);
    if (path) send(path);
  });
}
