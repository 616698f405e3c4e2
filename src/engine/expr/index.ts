export type { Expr, TypeName, BinaryOp, AssignOp } from './ast.js';
export { typeNameToString } from './ast.js';
export { ExprSyntaxError, readEscape, tokenize, type Token } from './lexer.js';
export { parseExpression, normalizeBaseTypeName, type ParseOptions } from './parser.js';
