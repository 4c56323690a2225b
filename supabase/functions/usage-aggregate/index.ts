import { createHandler, depsFromEnv } from './deps.ts';

Deno.serve(createHandler(depsFromEnv(Deno.env)));
