/** No sandbox can be had right now (no free id range, a start ended under it, one still starting elsewhere). */
export class CapacityError extends Error {}
