/** The WorkbenchApi (./methods): its requests, responses, events, envelope and client core. */
export * from './requests';
export * from './responses';
export * from './events';
export * from './methods';
export * from './envelope';
export * from './weights';
