import { createHandler, depsFromEnv } from './handler.ts';

Deno.serve(createHandler(depsFromEnv(Deno.env)));
