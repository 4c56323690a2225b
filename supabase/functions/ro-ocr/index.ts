import { createOcrEngineFromEnv } from '../_shared/ocr/index.ts';
import { createHandler, depsFromEnv } from './handler.ts';

// One engine per function instance: the Tesseract worker (or the OpenAI client) is reused across requests.
const engine = createOcrEngineFromEnv({
  OPENAI_API_KEY: Deno.env.get('OPENAI_API_KEY'),
  OPENAI_BASE_URL: Deno.env.get('OPENAI_BASE_URL'),
  OPENAI_OCR_MODEL: Deno.env.get('OPENAI_OCR_MODEL'),
});

Deno.serve(createHandler(depsFromEnv(Deno.env, engine)));
