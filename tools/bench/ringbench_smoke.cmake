# SPDX-License-Identifier: GPL-2.0
# Smoke test of ringbench: cmake -DRINGBENCH=path -P ringbench_smoke.cmake

function(run_ringbench out)
	execute_process(COMMAND ${RINGBENCH} --seconds 0.2 ${ARGN}
		RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
	message("${stdout}${stderr}")
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "ringbench ${ARGN} exited with '${rc}'")
	endif()
	set(${out} "${stdout}" PARENT_SCOPE)
endfunction()

run_ringbench(table)
foreach(row "busy-poll +64 " "busy-poll +1500 " "busy-poll +9000 "
		"busy-poll +65536 " "doorbell +64 ")
	if(NOT table MATCHES "\n${row}+[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+")
		message(FATAL_ERROR "no row '${row}' with numbers in the table")
	endif()
endforeach()

run_ringbench(json --json)
string(JSON n LENGTH "${json}" results)
if(NOT n EQUAL 5)
	message(FATAL_ERROR "JSON has ${n} results, expected 5")
endif()
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
	string(JSON mode GET "${json}" results ${i} mode)
	string(JSON size GET "${json}" results ${i} frame_bytes)
	string(JSON frames GET "${json}" results ${i} frames)
	if(frames LESS_EQUAL 0)
		message(FATAL_ERROR "${mode} ${size}: no frames received")
	endif()
endforeach()
