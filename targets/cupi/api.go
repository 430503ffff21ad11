package cupi

import "encoding/json"

// The shapes of Unity Connection's CUPI answers the client decodes into
// types of its own, apart from what it does with them. Objects (users,
// roles, credentials, policies, templates) are read as Object, a flat map
// of CUPI's field names to their text, from JSON or XML lists
// (decodeJSONList, decodeXMLList); the engine speaks Object.

// jsonErrors is a JSON error answer: {"errors": ...}, an object, a list
// of objects or a string (parseError reads each).
type jsonErrors struct {
	Errors json.RawMessage `json:"errors"`
}

// xmlErrors is an XML error answer: <errors><code/><message/></errors>.
type xmlErrors struct {
	Errors struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"errors"`
}
