/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Library of 1207's refusals: two 4-byte functions followed by no-op
 * padding that something does use, so the entry jump may not take it.
 * short_jumped: another function branches into its padding.
 * short_taken: the library's data holds the address of its padding
 * (a relative relocation with addend +4).
 */
	.text
	.p2align 4
	.globl short_jumped
	.type short_jumped, @function
short_jumped:
	lea 1(%rdi), %eax
	ret
1:	nop
	ret
	.size short_jumped, 4

	.p2align 4
	.globl short_other
	.type short_other, @function
short_other:
	test %edi, %edi
	jz 1b
	xor %eax, %eax
	ret
	.size short_other, .-short_other

	.p2align 4
	.globl short_taken
	.type short_taken, @function
short_taken:
	lea 1(%rdi), %eax
	ret
	.size short_taken, 4
	.p2align 4

	.data
	.p2align 3
	.globl short_ptr
	.type short_ptr, @object
short_ptr:
	.quad short_taken + 4
	.size short_ptr, 8

	.section .note.GNU-stack, "", @progbits
