package logql

import (
	"strconv"
	"strings"
)

// LiteralExpr is a number: a scalar.
type LiteralExpr struct {
	Value float64
}

func (*LiteralExpr) isExpr()          {}
func (*LiteralExpr) isSample()        {}
func (e *LiteralExpr) String() string { return strconv.FormatFloat(e.Value, 'g', -1, 64) }

// VectorExpr is vector(x): one sample without labels at every step.
type VectorExpr struct {
	Value float64
}

func (*VectorExpr) isExpr()   {}
func (*VectorExpr) isSample() {}
func (e *VectorExpr) String() string {
	return "vector(" + strconv.FormatFloat(e.Value, 'g', -1, 64) + ")"
}

// BinaryExpr is LHS op RHS, with Prometheus' semantics: arithmetic,
// comparisons (filters, or 0 and 1 with bool) and the set operators and,
// or, unless; vectors match one to one on all their labels, or on or
// ignoring some.
type BinaryExpr struct {
	Op         string
	LHS, RHS   SampleExpr
	ReturnBool bool
	Matching   *Matching
}

// Matching is on (…) or ignoring (…) of a binary operation.
type Matching struct {
	On     bool
	Labels []string
}

func (*BinaryExpr) isExpr()   {}
func (*BinaryExpr) isSample() {}

func (e *BinaryExpr) String() string {
	s := operand(e.LHS) + " " + e.Op
	if e.ReturnBool {
		s += " bool"
	}
	if m := e.Matching; m != nil {
		word := "ignoring"
		if m.On {
			word = "on"
		}
		s += " " + word + " (" + strings.Join(m.Labels, ", ") + ")"
	}
	return s + " " + operand(e.RHS)
}

// operand prints a binary operation's operand, in parentheses when it is
// itself one, so that the printed query parses to the same tree.
func operand(e SampleExpr) string {
	if _, ok := e.(*BinaryExpr); ok {
		return "(" + e.String() + ")"
	}
	return e.String()
}

// binaryPrecedence ranks the binary operators, loosest first; ^ is
// right-associative.
var binaryPrecedence = map[string]int{
	"or": 1, "and": 2, "unless": 2,
	"==": 3, "!=": 3, ">": 3, ">=": 3, "<": 3, "<=": 3,
	"+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6,
}

func isComparison(op string) bool { return binaryPrecedence[op] == 3 }
func isSetOp(op string) bool      { return op == "and" || op == "or" || op == "unless" }

// parseExpr parses a query, binary operators included, by precedence
// climbing.
func (p *parser) parseExpr() (Expr, error) { return p.parseBinary(1) }

func (p *parser) parseBinary(minPrec int) (Expr, error) {
	lhs, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		opTok := p.peek()
		prec, ok := binaryPrecedence[opTok.text]
		if !ok || prec < minPrec || opTok.kind == tokString || opTok.kind == tokNumber {
			return lhs, nil
		}
		p.next()
		e := &BinaryExpr{Op: opTok.text}
		if err := p.parseBinaryModifiers(e); err != nil {
			return nil, err
		}
		next := prec + 1
		if e.Op == "^" {
			next = prec
		}
		rhs, err := p.parseBinary(next)
		if err != nil {
			return nil, err
		}
		if lhs, err = newBinary(e, lhs, rhs, opTok); err != nil {
			return nil, err
		}
	}
}

// parseBinaryModifiers parses bool, on (…) and ignoring (…).
func (p *parser) parseBinaryModifiers(e *BinaryExpr) error {
	if p.is("bool") {
		p.next()
		e.ReturnBool = true
	}
	if p.is("on") || p.is("ignoring") {
		on := p.next().text == "on"
		p.pos-- // parseGrouping reads the keyword
		g, err := p.parseGrouping()
		if err != nil {
			return err
		}
		e.Matching = &Matching{On: on, Labels: g.Labels}
	}
	if t := p.peek(); p.is("group_left") || p.is("group_right") {
		return errorAt(t, "syntax error: %s is not supported; binary operations match one to one", t.text)
	}
	return nil
}

// newBinary checks the operands of a binary operation.
func newBinary(e *BinaryExpr, lhs, rhs Expr, opTok token) (Expr, error) {
	l, lok := lhs.(SampleExpr)
	r, rok := rhs.(SampleExpr)
	if !lok || !rok {
		return nil, errorAt(opTok, "syntax error: binary operation %s needs metric queries on both sides, not a log query", e.Op)
	}
	_, lScalar := l.(*LiteralExpr)
	_, rScalar := r.(*LiteralExpr)
	switch {
	case e.ReturnBool && !isComparison(e.Op):
		return nil, errorAt(opTok, "syntax error: bool modifier can only be used on comparison operators")
	case isComparison(e.Op) && lScalar && rScalar && !e.ReturnBool:
		return nil, errorAt(opTok, "syntax error: comparisons between scalars must use BOOL modifier")
	case isSetOp(e.Op) && (lScalar || rScalar):
		return nil, errorAt(opTok, "syntax error: set operator %s not allowed in binary scalar expression", e.Op)
	case e.Matching != nil && (lScalar || rScalar):
		return nil, errorAt(opTok, "syntax error: vector matching only allowed between vectors")
	}
	e.LHS, e.RHS = l, r
	return e, nil
}

// parseVectorLiteral parses vector(x).
func (p *parser) parseVectorLiteral() (Expr, error) {
	p.next()
	p.next() // (
	v, err := p.parseNumber()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	return &VectorExpr{Value: v}, nil
}
