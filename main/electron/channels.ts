/**
 * IPC channels private to the desktop shell: the preload uses them for itself and never exposes
 * them to the page. The API's own channels live in shared/api/methods.ts.
 */

/** Preload -> main: the path of a folder dropped onto the window (webUtils.getPathForFile). */
export const DROP_CHANNEL = 'shell:drop';
