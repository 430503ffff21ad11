package main

func runPlan(args []string, io streams) error { return fail(exitInvalid, "not yet") }
