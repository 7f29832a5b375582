import type { Config } from "../config";

/** Hono environment shared by every route: Worker bindings plus the validated config. */
export interface AppEnv {
  Bindings: Env;
  Variables: { config: Config };
}
