/** An entity as the API lists it: with the version an update or a delete must name. */
export interface VersionedRow<E> {
  entity: E;
  version: number;
}
