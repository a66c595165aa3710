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

foreach(row "shmnic-ring +busy-poll " "shmnic-ring +doorbell "
		"unix-socketpair +blocking " "tcp-loopback +blocking ")
	if(NOT table MATCHES "\n${row}+[0-9.]+ +[0-9.]+ +[0-9.]+ +[1-9][0-9]* ")
		message(FATAL_ERROR "no ping-pong row '${row}' with numbers in the table")
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

string(JSON n LENGTH "${json}" pingpong)
if(NOT n EQUAL 4)
	message(FATAL_ERROR "JSON has ${n} ping-pong results, expected 4")
endif()
foreach(i RANGE 3)
	string(JSON transport GET "${json}" pingpong ${i} transport)
	string(JSON rounds GET "${json}" pingpong ${i} rounds)
	string(JSON median GET "${json}" pingpong ${i} median_us)
	if(rounds LESS_EQUAL 0 OR NOT median GREATER 0)
		message(FATAL_ERROR "ping-pong ${transport}: ${rounds} round trips, median ${median} us")
	endif()
endforeach()

# --only keeps one kind of rows
run_ringbench(only --only pingpong --seconds 0.1)
if(only MATCHES "\nbusy-poll +64 " OR NOT only MATCHES "\nshmnic-ring +busy-poll ")
	message(FATAL_ERROR "--only pingpong printed throughput rows or no ping-pong row")
endif()
