import {
  type DocumentNode,
  type GraphQLResolveInfo,
  Kind,
  type SelectionSetNode,
  visit,
} from 'graphql';

/**
 * Whether the selection below the current field asks, at any depth, for a field with one of
 * `names` (fragments followed). Resolvers use it to have the directory start an upstream read that
 * a nested field will need, in parallel with their own, instead of after it (`ReadAhead`).
 */
export function selectsField(info: GraphQLResolveInfo, names: readonly string[]): boolean {
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === 'Field') {
        if (names.includes(selection.name.value) || walk(selection.selectionSet)) return true;
      } else if (selection.kind === 'InlineFragment') {
        if (walk(selection.selectionSet)) return true;
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        if (walk(info.fragments[selection.name.value]?.selectionSet)) return true;
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => walk(node.selectionSet));
}

const documentFields = new WeakMap<DocumentNode, Set<string>>();

/**
 * Whether any operation or fragment of `document` selects a field named `name`, whatever its
 * type: an over-approximation that costs one walk per parsed document (Yoga reuses them).
 */
export function documentSelects(document: DocumentNode, name: string): boolean {
  let names = documentFields.get(document);
  if (!names) {
    const found = new Set<string>();
    visit(document, {
      [Kind.FIELD]: (node) => {
        found.add(node.name.value);
      },
    });
    names = found;
    documentFields.set(document, names);
  }
  return names.has(name);
}
