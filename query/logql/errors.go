package logql

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
)

// LimitError is a query stopped by one of Limits; Flag names the setting.
type LimitError struct {
	Msg string
}

func (e *LimitError) Error() string { return e.Msg }

// PipelineError is a metric query whose pipeline left an error label on
// a series, worded as Loki's so that users recognise the remedy.
type PipelineError struct {
	Series labels.Labels
}

func (e *PipelineError) Error() string {
	kind := e.Series.Get(ErrorLabel)
	return fmt.Sprintf("pipeline error: '%s' for series: '%s'.\n"+
		"Use a label filter to intentionally skip this error. (e.g | __error__!=\"%s\").\n"+
		"To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"+
		"The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n",
		kind, e.Series, kind)
}
