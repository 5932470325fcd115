import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { sortedSchema } from '../src/schema/index.ts';

// `npm run schema`: writes schema.graphql from the Pothos schema. test/schema/schema.test.ts
// fails when the committed file differs from this output.
const out = new URL('../schema.graphql', import.meta.url);
writeFileSync(out, `${printSchema(sortedSchema)}\n`);
console.log(`wrote ${out.pathname}`);
