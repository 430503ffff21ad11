package main

func runSim(args []string, io streams) error { return fail(exitInvalid, "not yet") }
