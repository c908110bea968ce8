package v2store

import (
	"encoding/json"
	"net/http"
)

// Error codes, as etcd's v2 API numbers them.
const (
	EcodeKeyNotFound        = 100
	EcodeTestFailed         = 101
	EcodeNotFile            = 102
	EcodeNotDir             = 104
	EcodeNodeExist          = 105
	EcodeRootROnly          = 107
	EcodeDirNotEmpty        = 108
	EcodeUnauthorized       = 110
	EcodeValueRequired      = 200
	EcodePrevValueRequired  = 201
	EcodeTTLNaN             = 202
	EcodeIndexNaN           = 203
	EcodeInvalidField       = 209
	EcodeInvalidForm        = 210
	EcodeRefreshValue       = 211
	EcodeRefreshTTLRequired = 212
	EcodeRaftInternal       = 300
	EcodeLeaderElect        = 301
	EcodeWatcherCleared     = 400
	EcodeEventIndexCleared  = 401
)

var errorMessages = map[int]string{
	EcodeKeyNotFound:        "Key not found",
	EcodeTestFailed:         "Compare failed",
	EcodeNotFile:            "Not a file",
	103:                     "Reached the max number of peers in the cluster",
	EcodeNotDir:             "Not a directory",
	EcodeNodeExist:          "Key already exists",
	106:                     "The prefix of given key is a keyword in etcd",
	EcodeRootROnly:          "Root is read only",
	EcodeDirNotEmpty:        "Directory not empty",
	109:                     "Peer address has existed",
	EcodeUnauthorized:       "The request requires user authentication",
	EcodeValueRequired:      "Value is Required in POST form",
	EcodePrevValueRequired:  "PrevValue is Required in POST form",
	EcodeTTLNaN:             "The given TTL in POST form is not a number",
	EcodeIndexNaN:           "The given index in POST form is not a number",
	204:                     "Value or TTL is required in POST form",
	205:                     "The given timeout in POST form is not a number",
	206:                     "Name is required in POST form",
	207:                     "Index or value is required",
	208:                     "Index and value cannot both be specified",
	EcodeInvalidField:       "Invalid field",
	EcodeInvalidForm:        "Invalid POST form",
	EcodeRefreshValue:       "Value provided on refresh",
	EcodeRefreshTTLRequired: "A TTL must be provided on refresh",
	EcodeRaftInternal:       "Raft Internal Error",
	EcodeLeaderElect:        "During Leader Election",
	EcodeWatcherCleared:     "watcher is cleared due to etcd recovery",
	EcodeEventIndexCleared:  "The event in requested index is outdated and cleared",
}

var errorStatus = map[int]int{
	EcodeKeyNotFound:  http.StatusNotFound,
	EcodeNotFile:      http.StatusForbidden,
	EcodeDirNotEmpty:  http.StatusForbidden,
	EcodeUnauthorized: http.StatusUnauthorized,
	EcodeTestFailed:   http.StatusPreconditionFailed,
	EcodeNodeExist:    http.StatusPreconditionFailed,
	EcodeRaftInternal: http.StatusInternalServerError,
	EcodeLeaderElect:  http.StatusInternalServerError,
}

// Error is a v2 API error, serialized as etcd serializes it.
type Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
	Index   uint64 `json:"index"`
}

// NewError returns the error with code's message.
func NewError(code int, cause string, index uint64) *Error {
	return &Error{Code: code, Message: errorMessages[code], Cause: cause, Index: index}
}

// Error is the message and cause, as etcd prints them.
func (e *Error) Error() string { return e.Message + " (" + e.Cause + ")" }

// StatusCode is the HTTP status the error is served with.
func (e *Error) StatusCode() int {
	if s, ok := errorStatus[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// JSON is the error's body without the trailing newline.
func (e *Error) JSON() []byte {
	b, _ := json.Marshal(e)
	return b
}
