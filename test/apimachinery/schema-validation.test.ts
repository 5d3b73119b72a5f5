import t from 'tap';
import { createSchemaValidatorFactory, pointerToFieldPath } from '../../src/apimachinery/schema-validation.js';
import { formatFieldError } from '../../src/apimachinery/status-error.js';

const schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 5 },
        mode: { type: 'string', enum: ['A', 'B'] },
        count: { type: 'integer' },
        items: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' } } } },
      },
    },
  },
};

t.test('pointer to field path', async (t) => {
  t.equal(pointerToFieldPath(''), '');
  t.equal(pointerToFieldPath('/spec/items/0/type'), 'spec.items[0].type');
  t.equal(pointerToFieldPath('/metadata/labels/a~1b'), 'metadata.labels.a/b');
});

t.test('ajv errors in field.ErrorList wording', async (t) => {
  const validate = createSchemaValidatorFactory().compile(schema);
  t.same(validate({ spec: { name: 'ok' } }), []);
  const cases: Array<[unknown, string[]]> = [
    [{}, ['spec: Required value']],
    [{ spec: {} }, ['spec.name: Required value']],
    [{ spec: { name: 'toolong' } }, ['spec.name: Too long: may not be more than 5 bytes']],
    [{ spec: { name: 'a', mode: 'C' } }, ['spec.mode: Unsupported value: "C": supported values: "A", "B"']],
    [{ spec: { name: 'a', count: 'x' } }, ['spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"']],
    [{ spec: { name: 'a', items: [{ type: 1 }] } }, ['spec.items[0].type: Invalid value: "integer": spec.items[0].type in body must be of type string: "integer"']],
  ];
  for (const [obj, want] of cases) t.same(validate(obj).map(formatFieldError), want, JSON.stringify(obj));
});
