package cupi

import "time"

var epoch = time.Now()

func nowSeconds() float64 { return time.Since(epoch).Seconds() }
