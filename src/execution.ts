import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  type Source,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

// How operations are executed. Queries run compiled by graphql-jit, one compiled function per
// parsed document and operation, from its second run on (Yoga's parse cache hands back the same
// document object for the same text, so a canonical query is compiled once): on the page of 50 users with teams and roles
// that cut the facade's CPU per request by about a sixth (README, Benchmark). Mutations stay on
// graphql-js: they are not the hot path, and their ordering and settling rules are proven on its
// serial execution.
//
// Callers must not see the difference (test/graphql/execution.test.ts compares answers byte for
// byte), so two things graphql-jit does its own way are undone here:
// - its errors carry `locations` but neither `nodes` nor `source`/`positions`, from which the
//   masking step (src/errors.ts) and Yoga's result processing rebuild errors, so the locations
//   would be lost: each is rebuilt as the error graphql-js would have made, its locations turned
//   back into positions in the operation's source; the result keeps graphql-js's key order;
// - it words variable coercion errors differently: an answer without `data` (the operation never
//   started: its variables were refused) is asked again of graphql-js, which runs no resolver
//   either and gives its own wording.

type Compiled = Pick<CompiledQuery, 'query'>;

/** Per document and operation name: how often it ran, and its compiled query once it has one. */
type Entry = { runs: number; compiled?: Compiled | null };

export type CompiledQueriesOptions = {
  /**
   * Runs of one document (and operation) on graphql-js before it is compiled. Compiling the page of
   * 50 users takes about 4 ms, several of its executions: a document sent once (literal values
   * inlined, a one-off query) is never worth it, so only documents that come back are compiled.
   * @default 1
   */
  interpretedRuns?: number;
  /** Called once per compiled operation, with the operation name the request gave (tests). */
  onCompile?: (operationName: string | undefined) => void;
};

type Execute = (args: ExecutionArgs) => unknown;

/**
 * The executor of one execution: the compiled query once the document (and operation) repeats,
 * else undefined (graphql-js runs it). For the service's own execution hook (src/app.ts), which
 * does more per execution in the same hook; `useCompiledQueries` is this alone.
 */
export function compiledExecution(
  options: CompiledQueriesOptions = {},
): (args: ExecutionArgs, executeFn: Execute) => Execute | undefined {
  const interpretedRuns = options.interpretedRuns ?? 1;
  const entries = new WeakMap<DocumentNode, Map<string | undefined, Entry>>();
  const compiledFor = (args: ExecutionArgs): Compiled | null => {
    const name = args.operationName ?? undefined;
    let byName = entries.get(args.document);
    if (!byName) {
      byName = new Map();
      entries.set(args.document, byName);
    }
    let entry = byName.get(name);
    if (!entry) {
      entry = { runs: 0 };
      byName.set(name, entry);
    }
    if (entry.compiled !== undefined) return entry.compiled;
    entry.runs += 1;
    if (entry.runs <= interpretedRuns) return null;
    entry.compiled = compile(args.schema, args.document, name);
    if (entry.compiled) options.onCompile?.(name);
    return entry.compiled;
  };
  return (args, executeFn) => {
    const query = compiledFor(args);
    if (!query) return undefined;
    const finish = (result: ExecutionResult, run: ExecutionArgs) =>
      result.data === undefined
        ? executeFn(run)
        : asGraphQLJsResult(result, run.document.loc?.source);
    // Always a promise, as an async executor would give, but with no await when the compiled
    // query answers at once or with a promise of its own.
    return (run: ExecutionArgs) => {
      try {
        const result = query.query(run.rootValue, run.contextValue, run.variableValues);
        return isPromiseLike(result)
          ? Promise.resolve(result).then((r) => finish(r, run))
          : Promise.resolve(finish(result, run));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  };
}

const isPromiseLike = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as PromiseLike<T> | null)?.then === 'function';

/** Query operations execute through graphql-jit once they repeat; everything else through graphql-js. */
export function useCompiledQueries(options: CompiledQueriesOptions = {}): Plugin {
  const executor = compiledExecution(options);
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const run = executor(args, executeFn);
      if (run) setExecuteFn(run as typeof executeFn);
    },
  };
}

/** The compiled query of a query operation, or null: graphql-js runs it. */
function compile(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): Compiled | null {
  if (getOperationAST(document, operationName)?.operation !== 'query') return null;
  const query = compileQuery(schema, document, operationName, {
    // Errors are rebuilt below, with the stack of what was thrown.
    disablingCapturingStackErrors: true,
  });
  return isCompiledQuery(query) ? query : null;
}

function asGraphQLJsResult(result: ExecutionResult, source: Source | undefined): ExecutionResult {
  if (!result.errors?.length) return result;
  const { errors, data, ...rest } = result;
  return { errors: errors.map((error) => asGraphQLJs(error, source)), data, ...rest };
}

/**
 * graphql-js's error for one that graphql-jit made (`locations` without `nodes` or `positions`);
 * graphql-js's own errors pass unchanged. A resolver's error that already has a path is what
 * graphql-js reports as is (its `locatedError`).
 */
export function asGraphQLJs(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.nodes !== undefined || error.positions !== undefined) return error;
  const original = error.originalError;
  if (original instanceof GraphQLError && original.path !== undefined) return original;
  const where =
    original instanceof GraphQLError && original.nodes !== undefined
      ? { nodes: original.nodes }
      : source && error.locations?.length
        ? { source, positions: error.locations.map((at) => position(source, at)) }
        : {};
  return new GraphQLError(error.message, {
    ...where,
    path: error.path,
    originalError: original ?? undefined,
  });
}

const lineStarts = new WeakMap<Source, number[]>();

/** The offset in `source` of a 1-based line and column (graphql-js's `getLocation`, inverted). */
function position(source: Source, at: { line: number; column: number }): number {
  let starts = lineStarts.get(source);
  if (!starts) {
    starts = [0];
    for (const match of source.body.matchAll(/\r\n|[\n\r]/g)) {
      starts.push(match.index + match[0].length);
    }
    lineStarts.set(source, starts);
  }
  return (starts[at.line - 1] ?? 0) + at.column - 1;
}
