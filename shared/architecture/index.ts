/** Architecture of a DenseNet computed from its config: layer table, summary, connectivity graph. */
export * from './shapes';
export * from './layers';
export * from './summary';
export * from './graph';
export * from './derivation';
