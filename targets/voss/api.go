package voss

import "encoding/json"

// The JSON shapes VOSS Automate's API sends and bulkprov reads:
// what the client decodes, apart from what it does with them.
// The engine never sees these; it speaks Instance, Summary and
// WriteResult.

// refs is the part of an answer's meta that names the parent node.
type refs struct {
	References struct {
		Parent []struct {
			Pkid string `json:"pkid"`
		} `json:"parent"`
	} `json:"references"`
}

// listPage is a list answer (GET /api/MODEL): a page of resources and
// where it lies in the whole.
type listPage struct {
	Pagination pagination `json:"pagination"`
	Resources  []struct {
		Pkid string         `json:"pkid"`
		Meta refs           `json:"meta"`
		Data map[string]any `json:"data"`
	} `json:"resources"`
}

// pagination is a list answer's place in the list; seen says the answer
// had one.
type pagination struct {
	Skip  int `json:"skip"`
	Limit int `json:"limit"`
	Total int `json:"total"`
	seen  bool
}

// UnmarshalJSON notes that the answer had a pagination object.
func (p *pagination) UnmarshalJSON(b []byte) error {
	type plain pagination
	var v plain
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = pagination(v)
	p.seen = true
	return nil
}

// instanceJSON is one instance as a GET or a bulk export answers it.
type instanceJSON struct {
	Pkid string `json:"pkid"`
	Meta struct {
		refs
		ModelType string `json:"model_type"`
		Hierarchy string `json:"hierarchy"`
		Pkid      string `json:"pkid"`
	} `json:"meta"`
	Data map[string]any `json:"data"`
}

// writeAnswer is the answer to a write: the pkid of a synchronous one,
// the transaction of a nowait one.
type writeAnswer struct {
	Pkid          string `json:"pkid"`
	TransactionID string `json:"transaction_id"`
	Success       *bool  `json:"success"`
}

// txStatus is a transaction's state as a poll answers it.
type txStatus struct {
	Status      string `json:"status"`
	Message     string `json:"message"`
	Description string `json:"description"`
}
