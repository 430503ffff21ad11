package main

func runApply(args []string, io streams) error { return fail(exitInvalid, "not yet") }
