import { stat } from 'node:fs/promises';
import type { BaseWindow, Dialog, OpenDialogOptions } from 'electron';

/**
 * Native folder pickers: a dataset folder (one subfolder per class) and an export destination.
 * They resolve to an absolute directory path, or null when the user cancels.
 */
type DialogLike = Pick<Dialog, 'showOpenDialog'>;

export const DATASET_DIALOG: OpenDialogOptions = {
  title: 'Open dataset folder',
  message: 'Choose a folder with one subfolder per class.',
  buttonLabel: 'Open Dataset',
  properties: ['openDirectory'],
};

export function exportDialogOptions(defaultPath?: string): OpenDialogOptions {
  return {
    title: 'Choose where to export',
    buttonLabel: 'Export Here',
    ...(defaultPath ? { defaultPath } : {}),
    // promptToCreate / createDirectory let the user make a new folder from the dialog itself.
    properties: ['openDirectory', 'createDirectory', 'promptToCreate'],
  };
}

async function pickDirectory(dialog: DialogLike, window: BaseWindow | null, options: OpenDialogOptions): Promise<string | null> {
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (result.canceled || result.filePaths.length === 0) return null;
  return result.filePaths[0];
}

export function chooseDatasetFolder(dialog: DialogLike, window: BaseWindow | null): Promise<string | null> {
  return pickDirectory(dialog, window, DATASET_DIALOG);
}

export function chooseExportDir(dialog: DialogLike, window: BaseWindow | null, defaultPath?: string): Promise<string | null> {
  return pickDirectory(dialog, window, exportDialogOptions(defaultPath));
}

export const WEIGHTS_DIALOG: OpenDialogOptions = {
  title: 'Open pretrained weights',
  message: 'Choose a torchvision DenseNet state dict: a .pth file saved by torch.save, or .safetensors.',
  buttonLabel: 'Start From These',
  properties: ['openFile'],
  filters: [{ name: 'PyTorch or safetensors weights', extensions: ['pth', 'pt', 'tar', 'bin', 'ckpt', 'safetensors'] }, { name: 'All files', extensions: ['*'] }],
};

/** A weights file to start a run from; null when cancelled. */
export async function chooseWeightsFile(dialog: DialogLike, window: BaseWindow | null, defaultPath?: string): Promise<string | null> {
  const options = defaultPath ? { ...WEIGHTS_DIALOG, defaultPath } : WEIGHTS_DIALOG;
  const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  if (result.canceled || result.filePaths.length === 0) return null;
  return result.filePaths[0];
}

/** A dropped or chosen path is a dataset folder only if it is a directory; files are refused with a reason. */
export async function checkDatasetFolder(path: string): Promise<{ ok: true; path: string } | { ok: false; message: string }> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return { ok: false, message: `A dataset is a folder with one subfolder per class; ${path} is a file.` };
    return { ok: true, path };
  } catch {
    return { ok: false, message: `The dropped folder ${path} cannot be read.` };
  }
}
