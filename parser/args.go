package parser

import (
	"encoding/json"
	"fmt"
)

// SplitArray splits a top-level JSON array into its raw elements without
// building a parse tree. The input is fully validated (accepting what
// json.Valid accepts); anything but an array is an error wrapping
// ErrInvalidPayload. Elements alias data (capacity capped) and carry no
// surrounding whitespace. An empty array gives an empty, non-nil slice.
func SplitArray(data []byte) ([]json.RawMessage, error) {
	start := skipSpace(data, 0)
	if at(data, start) != '[' {
		if !validJSON(data) {
			return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
		}
		return nil, fmt.Errorf("%w: not a JSON array", ErrInvalidPayload)
	}
	// Validate and count, so the result is a single exact allocation.
	n, i := 0, skipSpace(data, start+1)
	if at(data, i) != ']' {
		for {
			end, ok := validValue(data, i, 1)
			if !ok {
				return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
			}
			n++
			i = skipSpace(data, end)
			if at(data, i) == ',' {
				i = skipSpace(data, i+1)
				continue
			}
			break
		}
	}
	if at(data, i) != ']' || skipSpace(data, i+1) != len(data) {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}

	out := make([]json.RawMessage, n)
	i = skipSpace(data, start+1)
	for k := range out {
		end := skipValue(data, i)
		out[k] = data[i:end:end]
		i = skipSpace(data, end)
		if at(data, i) == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// EventName returns the event name of an EVENT or BINARY_EVENT payload: the
// first element of the array. Like the reference parser, a number is
// accepted as a name; it is returned as its JSON literal (e.g. "1"), which is
// what a JavaScript peer would use for integer names.
func EventName(data json.RawMessage) (string, error) {
	first, err := firstElement(data)
	if err != nil {
		return "", err
	}
	switch c := first[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(first, &s); err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidPayload, err)
		}
		return s, nil
	case c == '-' || isDigit(c):
		return string(first), nil
	}
	return "", fmt.Errorf("%w: event name must be a string or a number", ErrInvalidPayload)
}

// firstElement returns the first element of a JSON array (validated
// here), or an error if data is not a non-empty array.
func firstElement(data []byte) ([]byte, error) {
	if !validJSON(data) {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	return firstElementValid(data)
}

// firstElementValid is firstElement for input already known to be valid.
func firstElementValid(data []byte) ([]byte, error) {
	i := skipSpace(data, 0)
	if at(data, i) != '[' {
		return nil, fmt.Errorf("%w: not a JSON array", ErrInvalidPayload)
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] == ']' {
		return nil, fmt.Errorf("%w: empty array", ErrInvalidPayload)
	}
	end := skipValue(data, i)
	return data[i:end:end], nil
}
