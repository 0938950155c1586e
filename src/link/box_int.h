/*
 * box_int.h - what box.c and box_frame.c share beyond box.h: for those
 * two files only.
 */
#ifndef MARKETBOX_BOX_INT_H
#define MARKETBOX_BOX_INT_H

#define BOX_HEADER		4		/* the frame's length prefix */

/* A frame's 4-byte big-endian integer, as libgw reads it: signed 32 bits
 * (two's complement). */
long		 box_frame_decode32(const unsigned char *p);

#endif
