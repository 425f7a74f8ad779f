/**
 * The `Date` scalar: an ISO calendar date string. Parsing accepts any string
 * and leaves the strict check (YYYY-MM-DD, a real calendar day) to the domain
 * validation, which answers BAD_USER_INPUT naming the input field
 * (`startDate: must be a calendar date YYYY-MM-DD`, `extensions.field`) the
 * same way whether the date came as a variable or a literal; a scalar parse
 * error could not name the field. A non-string is refused here.
 */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { isCalendarDate } from './domain/index.js';

function parse(value: unknown): string {
  if (typeof value !== 'string') {
    throw new GraphQLError('Date must be a string YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'An ISO calendar date, e.g. 2027-03-01',
  serialize(value: unknown): string {
    if (!isCalendarDate(value)) throw new GraphQLError(`Date cannot represent ${JSON.stringify(value)}`);
    return value;
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('Date must be a string YYYY-MM-DD', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return ast.value;
  },
});
