// Loaded with --import into a child_process.fork child, before the trainer entry: makes the child
// look like an Electron utility process, where the parent is reached through `process.parentPort`
// (incoming 'message' events carry `{data}`, outgoing `postMessage`) and `process.send` does not
// exist. The trainer entry's parentPort branch then runs for real.
import { EventEmitter } from 'node:events';

const send = process.send.bind(process);
const port = new EventEmitter();
port.postMessage = (message) => send(message);
process.on('message', (data) => port.emit('message', { data, ports: [] }));
process.parentPort = port;
process.send = undefined;
process.on('disconnect', () => process.exit(1));
